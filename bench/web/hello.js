// The hello function of bench/web.sh on Google's functions-framework: the
// same answer as wisp's hello example action ({"greeting": "Hello, <name>!"}).
export const hello = (req, res) => {
  const name = typeof req.query.name === 'string' ? req.query.name : 'stranger';
  res.json({ greeting: `Hello, ${name}!` });
};
