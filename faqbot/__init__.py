"""faqbot: a safe, fast FAQ chatbot over a clinic's articles."""
