"""A territory's communication campaigns: short links and tagged links, counted anonymously."""
