select city, name as city_name, division_prefix
from {{ source('reference', 'cities') }}
