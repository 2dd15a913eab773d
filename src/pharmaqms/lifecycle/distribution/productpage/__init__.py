"""The public product page a patient or pharmacist reaches by scanning a pack's QR code (GS1
Digital Link ``/01/{gtin}/10/{lot}/21/{serial}``), the patient leaflet it links, and the
printable pack labels that carry the codes."""
