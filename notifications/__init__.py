"""The product speaks first: notices mailed to the people who should act,
and each person's choice of the optional ones."""
