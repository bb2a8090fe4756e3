"""Knowledge: the clinic's articles as typed records.

Reads and cleans the corpus (corpus.py, cleaning.py), splits it into passages with their visitor
questions (passages.py), and holds the text basics every later stage shares (text.py: folding,
tokens, data files). Plain Python; imports only faqbot.config and faqbot.data, nothing above.
"""
