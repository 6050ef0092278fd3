"""Bill texts: their sections, and the word-level redline between two of them."""
