-- Which policy industry scopes (工信企业, 生产性服务业, ...) each firm falls in, derived from its
-- GB/T 4754 industry code by prefix, never typed by hand.
select distinct
    p.uscc,
    s.scope
from {{ ref('int_firm_profiles') }} as p
inner join {{ ref('stg_reference__industry_scope_prefixes') }} as s
    on substring(p.industry_code, 1, length(s.prefix)) = s.prefix
where {{ changed_firms_only('p.uscc') }}
