"""One module per job type; each defines ``JOB_TYPE`` (see ``analysis.jobtype``)."""
