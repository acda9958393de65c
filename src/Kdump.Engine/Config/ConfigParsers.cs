using System.Text;
using System.Text.RegularExpressions;

namespace Kdump.Engine.Config;

/// <summary>One active line of /etc/kdump.conf: option, value, trailing comment and where the value sits in the line.</summary>
internal sealed record KdumpConfLine(int Index, string Name, string Value, string? Comment, int ValueStart, int ValueEnd);

/// <summary>One shell assignment NAME=value of /etc/default/kdump-tools, /etc/sysconfig/kdump or /etc/default/grub.</summary>
internal sealed record ShellAssignment(int Index, string Name, string Value, string? Comment, int ValueStart, int ValueEnd, char Quote);

internal static partial class ConfigParsers
{
    /// <summary>
    /// /etc/kdump.conf as kdumpctl reads it: everything after '#' is a comment, blanks collapse, the first word is
    /// the option and the rest its value.
    /// </summary>
    public static List<KdumpConfLine> ParseKdumpConf(ConfigText text)
    {
        var list = new List<KdumpConfLine>();
        for (int i = 0; i < text.Lines.Count; i++)
        {
            string line = text.Lines[i];
            int hash = line.IndexOf('#');
            string body = hash >= 0 ? line[..hash] : line;
            string? comment = hash >= 0 ? ConfigText.Decode(line[(hash + 1)..].Trim()) : null;
            int p = 0;
            while (p < body.Length && char.IsWhiteSpace(body[p])) p++;
            if (p == body.Length) continue;
            int nameStart = p;
            while (p < body.Length && !char.IsWhiteSpace(body[p])) p++;
            string name = body[nameStart..p];
            while (p < body.Length && char.IsWhiteSpace(body[p])) p++;
            int vEnd = body.Length;
            while (vEnd > p && char.IsWhiteSpace(body[vEnd - 1])) vEnd--;
            string value = ConfigText.Decode(Regex.Replace(body[p..vEnd], @"\s+", " "));
            list.Add(new KdumpConfLine(i, name, value, comment, p, vEnd));
        }
        return list;
    }

    [GeneratedRegex(@"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=")]
    private static partial Regex AssignmentRegex();

    /// <summary>Shell variable assignments, one per line (quoted '...' or "..." or a bare word); other lines are ignored.</summary>
    public static List<ShellAssignment> ParseShell(ConfigText text)
    {
        var list = new List<ShellAssignment>();
        for (int i = 0; i < text.Lines.Count; i++)
        {
            string line = text.Lines[i];
            var m = AssignmentRegex().Match(line);
            if (!m.Success) continue;
            int p = m.Length;
            int vStart = p;
            var value = new StringBuilder();
            char quote = '\0';
            if (p < line.Length && line[p] is '"' or '\'')
            {
                quote = line[p];
                p++;
                while (p < line.Length && line[p] != quote)
                {
                    if (quote == '"' && line[p] == '\\' && p + 1 < line.Length && line[p + 1] is '"' or '\\' or '$' or '`') p++;
                    value.Append(line[p]);
                    p++;
                }
                if (p < line.Length) p++;   // closing quote (an unterminated value runs to the end of the line)
            }
            else
            {
                while (p < line.Length && !char.IsWhiteSpace(line[p]) && line[p] != ';')
                {
                    if (line[p] == '\\' && p + 1 < line.Length) p++;
                    value.Append(line[p]);
                    p++;
                }
            }
            int vEnd = p;
            string? comment = null;
            int hash = line.IndexOf('#', vEnd);
            if (hash >= 0 && line[vEnd..hash].Trim().Length == 0) comment = ConfigText.Decode(line[(hash + 1)..].Trim());
            list.Add(new ShellAssignment(i, m.Groups[1].Value, ConfigText.Decode(value.ToString()), comment, vStart, vEnd, quote));
        }
        return list;
    }

    /// <summary>Quotes a value for a shell assignment, keeping the original quote style when it can hold the value.</summary>
    public static string ShellQuote(string value, char preferred)
    {
        bool plain = value.Length > 0 && value.All(c => char.IsLetterOrDigit(c) || "-_./:@,=+%".Contains(c));
        if (preferred == '\0' && plain) return value;
        if (preferred == '\'' && !value.Contains('\'')) return "'" + value + "'";
        var sb = new StringBuilder("\"");
        foreach (char c in value)
        {
            if (c is '"' or '\\' or '$' or '`') sb.Append('\\');
            sb.Append(c);
        }
        return sb.Append('"').ToString();
    }
}
