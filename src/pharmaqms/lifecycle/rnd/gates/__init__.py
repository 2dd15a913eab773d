"""R&D projects through their stage gates (issue 12 §2): the development phases of a project
(pre-formulation to technology transfer) each closed by a gate review that collects evidence
for the phase's deliverables and is approved online by the named functions with electronic
signatures; a planned-versus-actual timeline; and the time to launch, from the approval of the
first gate to the first commercial batch of the project's product released."""
