"""The model: the fixed world, the firm table and its shared helpers, and DistrictModel.

Bottom to top (each module imports only those above it in this list, and
sim.config):

- ``world``: niches, provinces, markets, technology domains, universities;
- ``calendar``: steps as years and quarters;
- ``arrays``: the array helpers the submodels share (each names one speed trick);
- ``firms``: the firm table (one row per living firm) and its common views;
- ``links``: the sorted store of collaboration and supply links;
- ``graph``: the inter-firm network as a whole (contacts, metrics, edge list);
- ``space``: the provinces as a Mesa network space;
- ``agents``: ``Firm``, the Mesa agent that views one row of the table;
- ``initial``: the starting population and markets (uses sim.submodels);
- ``observe``: indicators per quarter and the firm panel (uses sim.submodels);
- ``district``: ``DistrictModel``, the submodels in their quarterly order.

``DistrictModel`` is imported as ``from sim import DistrictModel``.
"""
