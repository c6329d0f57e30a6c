"""One router per resource; each calls the core and adds no logic of its own."""
