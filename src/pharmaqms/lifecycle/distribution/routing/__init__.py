"""Temperature-aware route planning for cold-chain deliveries (issue 10 §7).

:mod:`.problem` is the input (depot, vehicles with their packaging, stops with their shipments
and remaining stability budgets, ambient profiles); :mod:`.exposure` turns a packaging, an
ambient profile and a budget into the latest time a shipment may still be delivered;
:mod:`.solver` is the OR-Tools model; :mod:`.explain` says what the chosen routes do to each
shipment and what the thermal term changed against the shortest-distance plan."""
