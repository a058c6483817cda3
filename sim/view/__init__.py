"""The student view: a Mesa SolaraViz page where a class watches the district, pulls a lever and sees its twin.

- ``levers``: what a student may set on the page (labels, ranges, starting values);
- ``checks``: the page's values checked, each bad one refused with a line naming its field;
- ``worlds``: the lever world's parameters and its twin's (without its policies, or its shocks);
- ``model``: ``StudentModel``, the lever world with its twin (same seed) stepped in lockstep;
- ``readings``: the numbers the page shows (monitors, series, a firm's record), from the two models;
- ``figures``: the map and the twin plots as matplotlib figures, reused quarter after quarter;
- ``components``, ``inspector``, ``info.md``: the page's parts (solara components, the Info text);
- ``app``: the SolaraViz page itself, served by ``distretto view``.

Only ``components``, ``inspector`` and ``app`` import solara (the ``viz`` extra); nothing else in
``sim`` imports this package.
"""
