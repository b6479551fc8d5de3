-- The catalog's clauses as registry.catalog.store writes them (typed there), with the ground's
-- on-list flag. The amount rules' keys are passed through whole: a new rule's keys reach the models
-- without a change here (macros/columns_of.sql).
select
    {{ columns_of(source('policy', 'clauses'), skip=['reading'], alias='c') }},
    c.reading as clause_reading,
    g.on_automatic_list
from {{ source('policy', 'clauses') }} as c
inner join {{ source('reference', 'automatic_grounds') }} as g on g.ground = c.automatic_ground
