"""The annual product quality review (EU GMP Part I 1.10; 21 CFR 211.180(e)): per product and
year, generated from every module's registers, concluded by QA, approved by a second person,
and the register of reviews due."""
