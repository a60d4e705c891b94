"""One customer across sources: buyers (sales), Kommo contacts and Gestão Click clients
matched by normalized e-mail, E.164 phone and CPF/CNPJ (``keys``), their keys stored in
``customer_keys`` on write (``index``) and read by index for a person or a search (``lookup``).
"""
