"""The resident's side of a territory's listings: public pages and filters, what is nearby, place
maps, the cells listings API, favourites and "my place"."""
