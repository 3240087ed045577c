"""The portal's pages: thin (parse, call a service or selector, render)."""
