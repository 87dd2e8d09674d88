"""Render back ends behind one interface: built-in chip synth, REAPER, reapy."""
