using System.Text;

namespace Kdump.Engine.Config;

/// <summary>
/// GRUB's environment block (/boot/grub2/grubenv): "# GRUB Environment Block", then name=value lines, padded with
/// '#' to a fixed size (1024 bytes) that GRUB reads and rewrites in place, so an edit must keep that size exactly.
/// RHEL 8 BLS entries say "options $kernelopts" and take the command line from its kernelopts variable.
/// </summary>
internal static class GrubEnv
{
    public static readonly string[] Paths = ["/boot/grub2/grubenv", "/boot/grub/grubenv"];

    public sealed record Variable(int Index, string Name, string RawValue)
    {
        /// <summary>The value with GRUB's backslash escapes removed.</summary>
        public string Value => Unescape(RawValue);
    }

    public static Dictionary<string, Variable> Parse(ConfigText? t)
    {
        var d = new Dictionary<string, Variable>(StringComparer.Ordinal);
        if (t is null) return d;
        for (int i = 0; i < t.Lines.Count; i++)
        {
            string line = t.Lines[i];
            if (line.Length == 0 || line[0] == '#') continue;
            int eq = line.IndexOf('=');
            if (eq <= 0) continue;
            d[line[..eq]] = new Variable(i, line[..eq], line[(eq + 1)..]);
        }
        return d;
    }

    private static string Unescape(string raw)
    {
        if (!raw.Contains('\\')) return ConfigText.Decode(raw);
        var sb = new StringBuilder();
        for (int i = 0; i < raw.Length; i++)
        {
            if (raw[i] == '\\' && i + 1 < raw.Length) { i++; sb.Append(raw[i] == 'n' ? '\n' : raw[i]); }
            else sb.Append(raw[i]);
        }
        return ConfigText.Decode(sb.ToString());
    }

    /// <summary>
    /// Expands $name and ${name} in a BLS options value from the environment block, as GRUB does when it boots the
    /// entry; unknown variables stay as written.
    /// </summary>
    public static string Expand(string options, IReadOnlyDictionary<string, Variable> env)
    {
        if (!options.Contains('$') || env.Count == 0) return options;
        var sb = new StringBuilder();
        for (int i = 0; i < options.Length; i++)
        {
            if (options[i] != '$') { sb.Append(options[i]); continue; }
            int start = i + 1;
            bool braced = start < options.Length && options[start] == '{';
            int p = braced ? start + 1 : start;
            int nameStart = p;
            while (p < options.Length && (char.IsAsciiLetterOrDigit(options[p]) || options[p] == '_')) p++;
            string name = options[nameStart..p];
            if (braced && (p >= options.Length || options[p] != '}')) { sb.Append('$'); continue; }
            if (name.Length == 0 || !env.TryGetValue(name, out var v)) { sb.Append('$'); continue; }
            sb.Append(v.Value);
            i = braced ? p : p - 1;
        }
        return sb.ToString();
    }

    /// <summary>True when a BLS options value takes its command line from $kernelopts.</summary>
    public static bool UsesKernelOpts(string options) =>
        KernelCmdline.Tokenize(options).Any(t => t.Text is "$kernelopts" or "${kernelopts}");

    /// <summary>
    /// Restores the block's size after an edit by lengthening or shortening its '#' padding (the last line); refuses
    /// when the variables no longer fit.
    /// </summary>
    public static void Repad(ConfigText t, int size)
    {
        int pad = t.Lines.Count - 1;
        if (pad < 0 || t.Eols[pad] != "" || t.Lines[pad].Any(c => c != '#'))
            throw new KdumpException("GrubEnvInvalid", KdumpErrorKind.InvalidData,
                $"{t.FullPath} does not end with GRUB's '#' padding; it is not edited. Use grub2-editenv.", t.FullPath);
        int withoutPad = t.ToBytes().Length - t.Lines[pad].Length;
        if (withoutPad > size)
            throw new KdumpException("GrubEnvFull", KdumpErrorKind.LimitExceeded,
                $"The new kernelopts does not fit in the {size}-byte GRUB environment block {t.FullPath}.", t.FullPath);
        t.SetLine(pad, new string('#', size - withoutPad));
    }
}
