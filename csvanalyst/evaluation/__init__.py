"""`csvanalyst eval`: run a suite of questions through the Session and score the answers by execution match."""
