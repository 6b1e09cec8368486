"""A territory's own listings, the writing side: declared fields, rules, the one write module,
normed-file imports, the API bridge and the editor console."""
