import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { MarkedText } from './MarkedText';

afterEach(cleanup);

describe('MarkedText', () => {
  it('marks unverified numbers and tells screen readers so', () => {
    const { container } = render(
      <p>
        <MarkedText text="Beta is 1.41 and the return was 12%." unverified={[{ text: '12%', start: 32, end: 35 }]} />
      </p>,
    );
    const marks = container.querySelectorAll('mark.unverified');
    expect(marks).toHaveLength(1);
    expect(marks[0].textContent).toBe('12% (unverified)');
    expect(marks[0].getAttribute('title')).toContain('no tool result backs');
    expect(container.textContent).toBe('Beta is 1.41 and the return was 12% (unverified).');
    expect(screen.queryByText('1.41', { exact: false })?.tagName).toBe('SPAN');
  });
});
