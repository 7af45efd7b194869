/**
 * The one request body every HTTP scenario sends (about 1 KB of JSON), so the
 * ceiling and the send API parse exactly the same bytes.
 */
const paragraph =
  'Thanks for your order. Your receipt is attached below. If anything looks wrong, reply to this ' +
  'message and a member of our team will get back to you within one business day. '

export function messageBody(from: string, to = 'customer@example.test'): Record<string, unknown> {
  return {
    from,
    to: [to],
    subject: 'Your receipt for order 10427',
    text: paragraph.repeat(3),
    html: `<p>${paragraph.repeat(2)}</p><p><a href="https://example.test/orders/10427">View your order</a></p>`,
    tags: ['receipt', 'shop'],
    metadata: { order_id: '10427', customer_id: 'cus_5521' },
  }
}

export function messageJson(from: string, to?: string): string {
  return JSON.stringify(messageBody(from, to))
}
