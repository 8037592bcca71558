-- Beneficiaries (marts.dim_beneficiaries): name and type; the masked ID display column is left out.
select beneficiary_id, beneficiary_name, beneficiary_type_zh, district, registered_on
from marts.dim_beneficiaries
