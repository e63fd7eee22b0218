"""Personal data rights (Saudi PDPL): what a person contributed, a copy of their data, and erasing the
account while public texts stay, anonymised, and agencies keep what the law requires."""
