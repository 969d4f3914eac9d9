import { Cell, Legend, Pie, PieChart, ResponsiveContainer, Tooltip } from 'recharts';
import type { Holding } from '../api/types';
import { formatMoney, formatPercent } from '../lib/format';

export const PALETTE = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2', '#65a30d', '#db2777', '#475569', '#ca8a04'];

/** Market value by holding, cash included as its own slice when positive. */
export default function AllocationChart({
  holdings,
  cash,
  currency,
}: {
  holdings: Holding[];
  cash: number;
  currency: string;
}) {
  const slices = holdings
    .filter((h) => (h.market_value ?? 0) > 0)
    .map((h) => ({ name: h.ticker, value: h.market_value ?? 0 }))
    .sort((a, b) => b.value - a.value);
  if (cash > 0) slices.push({ name: 'Cash', value: cash });
  const total = slices.reduce((sum, s) => sum + s.value, 0);
  return (
    <figure className="chart allocation" aria-label="Allocation by market value">
      <ResponsiveContainer width="100%" height={240}>
        <PieChart>
          <Pie data={slices} dataKey="value" nameKey="name" innerRadius="55%" outerRadius="85%" isAnimationActive={false}>
            {slices.map((slice, i) => (
              <Cell key={slice.name} fill={slice.name === 'Cash' ? '#94a3b8' : PALETTE[i % PALETTE.length]} />
            ))}
          </Pie>
          <Tooltip formatter={(value) => [`${formatMoney(Number(value), currency)} (${formatPercent(Number(value) / total, 1)})`]} />
          <Legend />
        </PieChart>
      </ResponsiveContainer>
      <figcaption className="visually-hidden">
        {slices.map((s) => `${s.name} ${formatPercent(s.value / total, 1)}`).join(', ')}
      </figcaption>
    </figure>
  );
}
