"""Computational core of data releases: plain Python, no Django.

Modules: :mod:`genomics.genes` (gene tables), :mod:`genomics.simulate`
(synthetic genotypes), :mod:`genomics.vcf` (bgzipped VCF writing, somatic
simulation), :mod:`genomics.validate` (VCF checks with line numbers),
:mod:`genomics.store` (VCF Zarr genotype store and carrier index) and
:mod:`genomics.kernels` (per-chunk statistics).
"""
