"""Individual case safety reports (ICSRs): intake from every channel, follow-up versions, case
processing by rule (validity, seriousness, expectedness, causality), reporting clocks per
region, medical review and QA sign-off. ``rules`` is pure; ``service`` is the only writer."""
