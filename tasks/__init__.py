"""The task suite: arith, xml, ptb and music."""
