// A function that always fails: shows how an error reaches the caller.
class OrderNotFoundError extends Error {
  override name = 'OrderNotFoundError';
}

export async function handler(event: { orderId?: string }) {
  throw new OrderNotFoundError(`order ${event.orderId ?? '(none)'} does not exist`);
}
