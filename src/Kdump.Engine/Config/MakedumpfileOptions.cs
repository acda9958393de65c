using System.Globalization;
using System.Text;

namespace Kdump.Engine.Config;

/// <summary>Decodes a core collector command (makedumpfile options) and edits its -c/-l/-p/-z and -d options in place.</summary>
public static class MakedumpfileOptions
{
    public const string RedHatDefault = "makedumpfile -l --message-level 7 -d 31";
    public const string RedHatFlattenedDefault = "makedumpfile -F -l --message-level 7 -d 31";
    public const string DebianDefaultArgs = "-c -d 31";

    internal readonly record struct Word(int Start, int Length, string Text);

    // short options that take a value (the rest of the cluster or the next word)
    private const string ShortWithValue = "dbLxig";
    private static readonly HashSet<string> LongWithValue = new(StringComparer.Ordinal)
    {
        "--message-level", "--num-threads", "--cyclic-buffer", "--splitblock-size", "--work-dir", "--config",
        "--eppic", "--dump-level", "--vmlinux", "--vmcoreinfo", "--mem-usage-limit",
    };

    public static char Flag(DumpCompression c) => c switch
    {
        DumpCompression.Zlib => 'c',
        DumpCompression.Lzo => 'l',
        DumpCompression.Snappy => 'p',
        DumpCompression.Zstd => 'z',
        _ => '\0',
    };

    private static DumpCompression? FromFlag(char c) => c switch
    {
        'c' => DumpCompression.Zlib,
        'l' => DumpCompression.Lzo,
        'p' => DumpCompression.Snappy,
        'z' => DumpCompression.Zstd,
        _ => null,
    };

    public static DumpLevelExclusion Exclusions(int level) => (DumpLevelExclusion)(level & 31);

    internal static List<Word> Split(string s)
    {
        var words = new List<Word>();
        int i = 0;
        while (i < s.Length)
        {
            while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
            if (i >= s.Length) break;
            int start = i;
            var text = new StringBuilder();
            char quote = '\0';
            while (i < s.Length && (quote != '\0' || !char.IsWhiteSpace(s[i])))
            {
                char c = s[i];
                if (quote != '\0') { if (c == quote) quote = '\0'; else text.Append(c); }
                else if (c is '"' or '\'') quote = c;
                else if (c == '\\' && i + 1 < s.Length) { text.Append(s[i + 1]); i++; }
                else text.Append(c);
                i++;
            }
            words.Add(new Word(start, i - start, text.ToString()));
        }
        return words;
    }

    /// <summary>Decodes a core_collector command line (or MAKEDUMP_ARGS with "makedumpfile " in front).</summary>
    public static CoreCollectorInfo Decode(string commandLine, bool isDefault = false)
    {
        var words = Split(commandLine);
        string program = words.Count > 0 ? words[0].Text : "";
        bool isMdf = Path.GetFileName(program) == "makedumpfile";
        if (!isMdf)
            return new CoreCollectorInfo { CommandLine = commandLine, Program = program, IsDefault = isDefault, OtherOptions = words.Skip(1).Select(w => w.Text).ToList() };

        var comp = new List<DumpCompression>();
        int? level = null, msg = null;
        bool flat = false, elf = false;
        var other = new List<string>();
        for (int i = 1; i < words.Count; i++)
        {
            string w = words[i].Text;
            if (w.StartsWith("--", StringComparison.Ordinal))
            {
                string name = w, val = "";
                int eq = w.IndexOf('=');
                if (eq > 0) { name = w[..eq]; val = w[(eq + 1)..]; }
                else if (LongWithValue.Contains(w) && i + 1 < words.Count) val = words[++i].Text;
                if (name == "--message-level") msg = ParseInt(val);
                else if (name == "--dump-level") level = ParseInt(val);
                else other.Add(eq > 0 || !LongWithValue.Contains(name) ? w : $"{w} {val}");
                continue;
            }
            if (w.Length < 2 || w[0] != '-') { other.Add(w); continue; }
            for (int k = 1; k < w.Length; k++)
            {
                char c = w[k];
                if (FromFlag(c) is { } dc) { comp.Add(dc); continue; }
                if (c == 'F') { flat = true; continue; }
                if (c == 'E') { elf = true; continue; }
                if (ShortWithValue.Contains(c))
                {
                    string val = k + 1 < w.Length ? w[(k + 1)..] : (i + 1 < words.Count ? words[++i].Text : "");
                    if (c == 'd') level = ParseInt(val);
                    else other.Add($"-{c} {val}");
                    break;
                }
                other.Add("-" + c);
            }
        }
        return new CoreCollectorInfo
        {
            CommandLine = commandLine,
            Program = program,
            IsMakedumpfile = true,
            IsDefault = isDefault,
            Compression = comp.Count > 0 ? comp[^1] : DumpCompression.None,
            CompressionFlags = comp,
            DumpLevel = level,
            ExcludedPages = level is { } l ? Exclusions(l) : DumpLevelExclusion.None,
            MessageLevel = msg,
            Flattened = flat,
            Elf = elf,
            OtherOptions = other,
        };
    }

    private static int? ParseInt(string s) =>
        int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) ? v : (int?)null;

    /// <summary>Sets the compression flag: the first existing flag is replaced in place, the others removed; none → inserted after the program.</summary>
    public static string WithCompression(string commandLine, DumpCompression compression)
    {
        var words = Split(commandLine);
        var sb = new StringBuilder(commandLine);
        bool placed = compression == DumpCompression.None;
        char flag = Flag(compression);
        var edits = new List<(int Pos, int Len, string Text)>();
        for (int i = 1; i < words.Count; i++)
        {
            var w = words[i];
            string t = commandLine.Substring(w.Start, w.Length);
            if (t.StartsWith("--", StringComparison.Ordinal)) { if (LongWithValue.Contains(t)) i++; continue; }
            if (t.Length < 2 || t[0] != '-') continue;
            var kept = new StringBuilder("-");
            bool changed = false;
            for (int k = 1; k < t.Length; k++)
            {
                char c = t[k];
                if (ShortWithValue.Contains(c)) { kept.Append(t[k..]); if (k + 1 == t.Length) i++; break; }
                if (FromFlag(c) is not null)
                {
                    changed = true;
                    if (!placed) { kept.Append(flag); placed = true; }
                    continue;
                }
                kept.Append(c);
            }
            if (!changed) continue;
            if (kept.Length == 1)
            {
                int s = w.Start;
                if (s > 0 && char.IsWhiteSpace(commandLine[s - 1])) s--;
                edits.Add((s, w.Start + w.Length - s, ""));
            }
            else edits.Add((w.Start, w.Length, kept.ToString()));
        }
        foreach (var e in edits.OrderByDescending(e => e.Pos)) { sb.Remove(e.Pos, e.Len); sb.Insert(e.Pos, e.Text); }
        if (!placed)
        {
            int at = words.Count > 0 ? words[0].Start + words[0].Length : sb.Length;
            sb.Insert(at, " -" + flag);
        }
        return sb.ToString();
    }

    /// <summary>Sets -d: the existing value is replaced in place; absent → " -d N" appended.</summary>
    public static string WithDumpLevel(string commandLine, int level)
    {
        string lv = level.ToString(CultureInfo.InvariantCulture);
        var words = Split(commandLine);
        for (int i = 1; i < words.Count; i++)
        {
            var w = words[i];
            string t = commandLine.Substring(w.Start, w.Length);
            if (t.StartsWith("--", StringComparison.Ordinal))
            {
                if (t.StartsWith("--dump-level=", StringComparison.Ordinal))
                    return Splice(commandLine, w.Start, w.Length, "--dump-level=" + lv);
                if (t == "--dump-level" && i + 1 < words.Count)
                    return Splice(commandLine, words[i + 1].Start, words[i + 1].Length, lv);
                if (LongWithValue.Contains(t)) i++;
                continue;
            }
            if (t.Length < 2 || t[0] != '-') continue;
            for (int k = 1; k < t.Length; k++)
            {
                char c = t[k];
                if (!ShortWithValue.Contains(c)) continue;
                if (c != 'd') { if (k + 1 == t.Length) i++; break; }
                if (k + 1 < t.Length) return Splice(commandLine, w.Start + k + 1, t.Length - k - 1, lv);
                if (i + 1 < words.Count) return Splice(commandLine, words[i + 1].Start, words[i + 1].Length, lv);
                return commandLine.TrimEnd() + " " + lv + commandLine[commandLine.TrimEnd().Length..];
            }
        }
        string trimmed = commandLine.TrimEnd();
        return trimmed + (trimmed.Length == 0 ? "" : " ") + "-d " + lv + commandLine[trimmed.Length..];
    }

    private static string Splice(string s, int start, int len, string text) => s[..start] + text + s[(start + len)..];
}
