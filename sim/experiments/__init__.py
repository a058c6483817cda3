"""Experiments: many runs of the model, and what they say.

- ``definitions``: experiment files (compare, sweep, sensitivity, robustness), validated;
- ``worlds``: the plausible worlds of a robustness experiment (calibration points, samples, variants);
- ``designs``: the runs an experiment plans (design points, worlds, seeds, run ids);
- ``runner``: runs on any executor, streamed to disk, resumable;
- ``analysis``: paired policy effects, sweep responses, sensitivity indices;
- ``robustness``: ranks, regret and scenario discovery (PRIM, CART) across worlds;
- ``report``: tables, figures, report.md and report.html.

The engine touches the model only through sim.model (``DistrictModel``) and
sim.run; it never calls a submodel.
"""
