using System.Globalization;

namespace Kdump.Engine.Config;

/// <summary>
/// Parses crashkernel= values as the kernel does (Documentation/admin-guide/kernel-parameters.txt):
/// size[KMG][@offset], start-[end]:size[,start-[end]:size...][@offset], size,high / size,low / size,cma, and the
/// old RHEL "auto".
/// </summary>
public static class CrashKernelParser
{
    public const int MaxRanges = 64;

    public static CrashKernelValue Parse(string value)
    {
        string v = value.Trim();
        if (v.StartsWith("crashkernel=", StringComparison.Ordinal)) v = v["crashkernel=".Length..];
        try { return ParseCore(v); }
        catch (FormatException e) { return new CrashKernelValue { Value = v, Kind = CrashKernelKind.Invalid, Error = e.Message }; }
    }

    private static CrashKernelValue ParseCore(string v)
    {
        if (v.Length == 0) throw new FormatException("the value is empty");
        if (v == "auto") return new CrashKernelValue { Value = v, Kind = CrashKernelKind.Auto };

        if (v.Contains(':'))
        {
            string body = v;
            ulong? offset = null;
            int at = v.LastIndexOf('@');
            if (at >= 0) { offset = ParseSize(v[(at + 1)..], "offset"); body = v[..at]; }
            var ranges = new List<CrashKernelRange>();
            foreach (string part in body.Split(','))
            {
                if (ranges.Count >= MaxRanges) throw new FormatException($"more than {MaxRanges} ranges");
                int colon = part.IndexOf(':');
                if (colon < 0) throw new FormatException($"'{part}' is not start-[end]:size");
                string range = part[..colon];
                int dash = range.IndexOf('-');
                if (dash < 0) throw new FormatException($"range '{range}' has no '-'");
                ulong start = ParseSize(range[..dash], "range start");
                ulong? end = dash == range.Length - 1 ? null : ParseSize(range[(dash + 1)..], "range end");
                if (end is { } e && e <= start) throw new FormatException($"range '{range}' ends before it starts");
                ulong size = ParseSize(part[(colon + 1)..], "size");
                if (ranges.Count > 0 && (ranges[^1].End is null || start < ranges[^1].End))
                    throw new FormatException($"range '{range}' overlaps the one before it");
                ranges.Add(new CrashKernelRange { Start = start, End = end, Size = size });
            }
            return new CrashKernelValue { Value = v, Kind = CrashKernelKind.Ranges, Ranges = ranges, Offset = offset };
        }

        var modifier = CrashKernelModifier.None;
        string s = v;
        int comma = v.IndexOf(',');
        if (comma >= 0)
        {
            string suffix = v[(comma + 1)..];
            modifier = suffix switch
            {
                "high" => CrashKernelModifier.High,
                "low" => CrashKernelModifier.Low,
                "cma" => CrashKernelModifier.Cma,
                _ => throw new FormatException($"unknown suffix ',{suffix}' (expected ,high ,low or ,cma)"),
            };
            s = v[..comma];
        }
        ulong? off = null;
        int at2 = s.IndexOf('@');
        if (at2 >= 0)
        {
            if (modifier != CrashKernelModifier.None) throw new FormatException("an @offset cannot be combined with ,high/,low/,cma");
            off = ParseSize(s[(at2 + 1)..], "offset");
            s = s[..at2];
        }
        ulong sz = ParseSize(s, "size");
        if (sz == 0 && modifier != CrashKernelModifier.Low) throw new FormatException("the size is zero");
        return new CrashKernelValue { Value = v, Kind = CrashKernelKind.Size, Size = sz, Offset = off, Modifier = modifier };
    }

    /// <summary>A memparse()-style size: decimal or 0x hex, optional K M G T P E suffix.</summary>
    public static ulong ParseSize(string text, string what = "size")
    {
        string t = text.Trim();
        if (t.Length == 0) throw new FormatException($"the {what} is empty");
        int shift = 0;
        char last = char.ToUpperInvariant(t[^1]);
        int idx = "KMGTPE".IndexOf(last);
        if (idx >= 0) { shift = 10 * (idx + 1); t = t[..^1]; }
        bool ok = t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(t.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong n)
            : ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out n);
        if (!ok) throw new FormatException($"the {what} '{text}' is not a number with an optional K/M/G/T/P/E suffix");
        if (shift > 0 && n > (ulong.MaxValue >> shift)) throw new FormatException($"the {what} '{text}' is too large");
        return n << shift;
    }

    /// <summary>The crashkernel sizes the distributions' tools recommend for an architecture (kdump-lib.sh tables).</summary>
    public static string DefaultRanges(string architecture) => architecture switch
    {
        "aarch64" or "arm64" => "2G-4G:256M,4G-64G:320M,64G-:576M",
        "ppc64le" or "ppc64" => "2G-4G:384M,4G-16G:512M,16G-64G:1G,64G-128G:2G,128G-:4G",
        _ => "2G-64G:256M,64G-:512M",
    };

    /// <summary>
    /// The recommended reservation for this much RAM: the architecture's default table, and 128M below 2 GB
    /// (where the table reserves nothing but a small machine can still capture a dump).
    /// </summary>
    public static ulong Recommended(ulong ramBytes, string architecture)
    {
        var table = Parse(DefaultRanges(architecture));
        ulong s = table.SizeFor(ramBytes) ?? 0;
        return s == 0 ? 128UL << 20 : s;
    }

    public static string HostArchitecture => System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.Arm64 => "aarch64",
        System.Runtime.InteropServices.Architecture.Ppc64le => "ppc64le",
        System.Runtime.InteropServices.Architecture.S390x => "s390x",
        _ => "x86_64",
    };
}

/// <summary>A whitespace-separated kernel command line with token positions, for in-place crashkernel= edits.</summary>
internal static class KernelCmdline
{
    public readonly record struct Token(int Start, int Length, string Text);

    public static List<Token> Tokenize(string cmdline)
    {
        var list = new List<Token>();
        int i = 0;
        while (i < cmdline.Length)
        {
            while (i < cmdline.Length && char.IsWhiteSpace(cmdline[i])) i++;
            if (i >= cmdline.Length) break;
            int start = i;
            bool quoted = false;
            while (i < cmdline.Length && (quoted || !char.IsWhiteSpace(cmdline[i])))
            {
                if (cmdline[i] == '"') quoted = !quoted;
                i++;
            }
            list.Add(new Token(start, i - start, cmdline[start..i]));
        }
        return list;
    }

    public static List<CrashKernelValue> CrashKernelValues(string cmdline) =>
        Tokenize(cmdline).Where(t => t.Text.StartsWith("crashkernel=", StringComparison.Ordinal))
            .Select(t => CrashKernelParser.Parse(t.Text)).ToList();

    /// <summary>
    /// Replaces the crashkernel= tokens of a command line with <paramref name="newTokens"/> (first one in place,
    /// the others removed with the blank before them); appends when there is none. Returns the line unchanged when
    /// the crashkernel tokens already equal the new ones.
    /// </summary>
    public static string ReplaceCrashKernel(string cmdline, IReadOnlyList<string> newTokens)
    {
        var tokens = Tokenize(cmdline).Where(t => t.Text.StartsWith("crashkernel=", StringComparison.Ordinal)).ToList();
        if (tokens.Select(t => t.Text).SequenceEqual(newTokens)) return cmdline;
        string joined = string.Join(' ', newTokens);
        if (tokens.Count == 0)
        {
            if (joined.Length == 0) return cmdline;
            string trimmed = cmdline.TrimEnd();
            return trimmed + (trimmed.Length == 0 ? "" : " ") + joined + cmdline[trimmed.Length..];
        }
        var sb = new System.Text.StringBuilder(cmdline);
        for (int k = tokens.Count - 1; k >= 1; k--)
        {
            int s = tokens[k].Start, e = s + tokens[k].Length;
            if (s > 0 && char.IsWhiteSpace(sb[s - 1])) s--;
            sb.Remove(s, e - s);
        }
        sb.Remove(tokens[0].Start, tokens[0].Length);
        if (joined.Length > 0) sb.Insert(tokens[0].Start, joined);
        else
        {
            // removing the only remaining token: drop one adjacent blank as well
            int p = tokens[0].Start;
            if (p > 0 && char.IsWhiteSpace(sb[p - 1])) sb.Remove(p - 1, 1);
            else if (p < sb.Length && char.IsWhiteSpace(sb[p])) sb.Remove(p, 1);
        }
        return sb.ToString();
    }
}
