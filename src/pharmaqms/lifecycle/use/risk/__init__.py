"""Risk-factor analysis: which patient factors, co-medication and lots raise the odds of a
serious outcome (or of one reaction) for a product, by Firth's penalised logistic regression,
always shown with the counts behind it."""
