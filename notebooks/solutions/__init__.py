"""Solutions to the teaching notebooks' exercises, kept out of the notebooks so Run All does not show them."""
