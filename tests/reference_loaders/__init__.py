"""Tests of the national reference loaders (BPE, OSM, Filosofi, DVF) on small files."""
