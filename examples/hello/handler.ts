// The seed's example function: reads `firstName` from the event and greets it.
import type { Context } from 'lambda-kit/runtime';

interface HelloEvent {
  firstName?: string;
}

export async function handler(event: HelloEvent, context: Context) {
  const firstName = event.firstName ?? 'world';
  console.log(`greeting ${firstName} (${context.getRemainingTimeInMillis()} ms left)`);
  return { message: `Hello, ${firstName}!` };
}
