/** The ARN of a function as Lambda spells it: `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`. */
export function functionArn(fn: { region: string; accountId: string; name: string }, qualifier?: string): string {
  return `arn:aws:lambda:${fn.region}:${fn.accountId}:function:${fn.name}${qualifier ? `:${qualifier}` : ''}`;
}
