"""One widget per module; each renders state the app hands it and posts messages, never calls the core."""
