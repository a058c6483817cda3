"""Experiments: many runs of the model, and what they say.

- ``definitions``: experiment files (compare, sweep, sensitivity), validated;
- ``designs``: the runs an experiment plans (design points, seeds, run ids);
- ``runner``: runs on any executor, streamed to disk, resumable;
- ``analysis``: paired policy effects, sweep responses, sensitivity indices;
- ``report``: tables, figures, report.md and report.html.

The engine touches the model only through sim.model (``DistrictModel``) and
sim.run; it never calls a submodel.
"""
