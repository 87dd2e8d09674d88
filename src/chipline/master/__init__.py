"""Mastering and delivery: loop assembly, loudness, file writers, manifest, piano rolls, gallery."""
