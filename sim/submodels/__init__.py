"""The submodels: one file per subsection of docs/ODD.md, section 7, each rule a function.

Each reads and writes the model's firm table and market state through
sim.model; none imports sim.run, sim.experiments or sim.cli.

| file | ODD | what it does |
|---|---|---|
| ``demand`` | 7.1 | expenditure per market and niche; foreign rivals |
| ``competition`` | 7.2 | logit market shares, customer inertia, capacity rationing |
| ``innovation`` | 7.3 | R&D, innovation and imitation |
| ``internationalisation`` | 7.4 | entry into and exit from foreign markets with sunk costs |
| ``employment`` | 7.5 | wages, markups, hiring and firing |
| ``finance`` | 7.6 | accounts, bank credit, insolvency |
| ``demography`` | 7.7 | the initial population, entry and exit of firms |
| ``shocks`` | 7.9 | scenario shocks to markets, credit, exchange rates, rivals |
| ``policy`` | 7.10 | policy makers, budgets, instruments, allocation |
| ``universities`` | 7.11 | collaborations with capacity-limited universities |
| ``training`` | 7.12 | training programmes |
| ``networks`` | 7.14 | technical collaborations between firms |
| ``knowhow`` | 7.15 | know-how per technology domain |
| ``supply`` | 7.16 | supply chains: subcontracting to smaller regional firms |
| ``specialisation`` | 7.17 | deepening a niche, moving to a related one |
| ``consortia`` | 7.18 | export consortia and network contracts |
| ``guarantees`` | 7.19 | a public guarantee fund for SME bank loans |
| ``affiliates`` | 7.20 | foreign affiliates (proximity-concentration), inward acquisitions |

Observation (7.8) and space (7.13) are in sim/model.
"""
