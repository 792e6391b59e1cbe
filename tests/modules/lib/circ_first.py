import circ_second
DONE = "first done"
