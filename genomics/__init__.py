"""Computational core of data releases: plain Python, no Django.

Modules: :mod:`genomics.genes` (gene tables), :mod:`genomics.simulate`
(synthetic genotypes), :mod:`genomics.vcf` (bgzipped VCF writing, somatic
simulation), :mod:`genomics.validate` (VCF checks with line numbers),
:mod:`genomics.vcfzarr` (the one-pass converter, which also checks),
:mod:`genomics.store` (VCF Zarr genotype store, carrier index and packed
hard calls), :mod:`genomics.mask` (the sample mask every genotype read
takes) and :mod:`genomics.kernels` (per-chunk statistics).
"""
