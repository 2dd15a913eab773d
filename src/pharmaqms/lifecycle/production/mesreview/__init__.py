"""Review by exception of a batch executed in an external MES: the record imported through the
platform (the batch, its process readings, the materials it consumed) is summed up, its
exceptions listed, and production signs the review; the QP's release checklist then judges the
batch on that evidence as it judges an electronic batch record made here."""
