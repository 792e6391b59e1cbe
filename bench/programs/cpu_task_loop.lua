-- Lua has no big integers: the sum wraps around 2^64, the loop is the same.
local function cpu_task(n)
  local total = 0
  for i = 0, n - 1 do
    total = total + i * i
  end
  return total
end
print(cpu_task(10000000))
