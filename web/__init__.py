"""Static files of the embeddable chat widget, installed as the package ``faqbot.web``."""
