"""Evaluation: scoring evaluation files through the real pipeline (runner.py), explaining one
reply's ranking (explain.py) and summarising the question log (analytics.py).

May import answering, knowledge and storage records; never the web layer.
"""
