"""Behaviour tests of JSONata states and workflow variables (Assign), in both query languages."""
