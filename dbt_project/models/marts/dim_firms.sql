-- One row per firm the registry knows, with where it is and what it does.
select
    uscc,
    firm_name,
    division_code,
    city,
    city_name,
    industry_code,
    registered_date,
    has_master_record
from {{ ref('int_firm_profiles') }}
where {{ changed_firms_only('uscc') }}
