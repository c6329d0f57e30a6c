"""Modal screens of the terminal front end."""
