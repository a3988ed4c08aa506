// Parsing of PostgreSQL's printed tsvector and tsquery, and `@@` over them (see the header).
#include "exchange/text_search.hpp"

#include <algorithm>

#include "exchange/invariant.hpp"

namespace maillon {
namespace {

// A quoted lexeme at `at`: 'text' with '' for a quote. Advances `at` past the closing quote.
std::optional<std::string> read_quoted(std::string_view text, std::size_t& at) {
  if (at >= text.size() || text[at] != '\'') return std::nullopt;
  std::string out;
  for (++at; at < text.size(); ++at) {
    if (text[at] == '\\' && at + 1 < text.size()) {
      out += text[++at];  // PostgreSQL doubles backslashes as it doubles quotes
    } else if (text[at] != '\'') {
      out += text[at];
    } else if (at + 1 < text.size() && text[at + 1] == '\'') {
      out += '\'';
      ++at;
    } else {
      ++at;
      return out;
    }
  }
  return std::nullopt;  // no closing quote
}

// ":1A,3,7C" after a lexeme: the positions, weights dropped.
bool read_positions(std::string_view text, std::size_t& at, std::vector<uint16_t>& out) {
  if (at >= text.size() || text[at] != ':') return true;  // a lexeme without positions
  do {
    ++at;
    uint32_t value = 0;
    std::size_t digits = 0;
    for (; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, ++digits) {
      value = value * 10 + static_cast<uint32_t>(text[at] - '0');
      if (value > 65535) return false;
    }
    if (digits == 0) return false;
    out.push_back(static_cast<uint16_t>(value));
    while (at < text.size() && text[at] >= 'A' && text[at] <= 'D') ++at;
  } while (at < text.size() && text[at] == ',');
  std::sort(out.begin(), out.end());
  return true;
}

void skip_spaces(std::string_view text, std::size_t& at) {
  while (at < text.size() && text[at] == ' ') ++at;
}

using Node = std::unique_ptr<TsQueryNode>;

Node make(TsQueryNode::Kind kind, Node left, Node right) {
  auto node = std::make_unique<TsQueryNode>();
  node->kind = kind;
  node->left = std::move(left);
  node->right = std::move(right);
  return node;
}

// Recursive descent over PostgreSQL's printed form; precedence ! > <N> > & > |.
class QueryParser {
 public:
  explicit QueryParser(std::string_view text) : text_(text) {}

  TsQueryResult parse() {
    TsQueryResult result;
    skip_spaces(text_, at_);
    if (at_ == text_.size()) {
      result.outcome = TsQueryParse::ok;  // the empty query
      return result;
    }
    Node root = disjunction();
    skip_spaces(text_, at_);
    if (!root || at_ != text_.size()) {
      result.outcome = unsupported_ ? TsQueryParse::unsupported : TsQueryParse::malformed;
      return result;
    }
    result.outcome = TsQueryParse::ok;
    result.query.root = std::move(root);
    return result;
  }

 private:
  std::string_view text_;
  std::size_t at_ = 0;
  bool unsupported_ = false;

  bool take(std::string_view token) {
    skip_spaces(text_, at_);
    if (text_.substr(at_, token.size()) != token) return false;
    at_ += token.size();
    return true;
  }

  Node disjunction() {
    Node left = conjunction();
    while (left && take("|")) {
      Node right = conjunction();
      if (!right) return nullptr;
      left = make(TsQueryNode::Kind::disjunction, std::move(left), std::move(right));
    }
    return left;
  }

  Node conjunction() {
    Node left = phrase();
    while (left && take("&")) {
      Node right = phrase();
      if (!right) return nullptr;
      left = make(TsQueryNode::Kind::conjunction, std::move(left), std::move(right));
    }
    return left;
  }

  // "<->" or "<N>": the distance, or nullopt when the next token is no phrase operator.
  std::optional<uint16_t> phrase_operator() {
    skip_spaces(text_, at_);
    if (take("<->")) return 1;
    if (at_ >= text_.size() || text_[at_] != '<') return std::nullopt;
    std::size_t at = at_ + 1;
    uint32_t value = 0;
    for (; at < text_.size() && text_[at] >= '0' && text_[at] <= '9'; ++at) {
      value = value * 10 + static_cast<uint32_t>(text_[at] - '0');
      if (value > 16384) return std::nullopt;
    }
    if (at == at_ + 1 || at >= text_.size() || text_[at] != '>') return std::nullopt;
    at_ = at + 1;
    return static_cast<uint16_t>(value);
  }

  Node phrase() {
    Node left = unary();
    while (left) {
      std::optional<uint16_t> distance = phrase_operator();
      if (!distance) break;
      Node right = unary();
      if (!right) return nullptr;
      if (!phrase_operand(*left, true) || !phrase_operand(*right, false)) {
        unsupported_ = true;
        return nullptr;
      }
      left = make(TsQueryNode::Kind::phrase, std::move(left), std::move(right));
      left->distance = *distance;
    }
    return left;
  }

  // Inside a phrase: lexemes, alternatives of lexemes, and on the left a shorter phrase. Those
  // are the shapes whose positions are plain sets; anything else goes to PostgreSQL.
  static bool phrase_operand(const TsQueryNode& node, bool left_side) {
    switch (node.kind) {
      case TsQueryNode::Kind::lexeme:
        return true;
      case TsQueryNode::Kind::disjunction:
        return node.left->kind == TsQueryNode::Kind::lexeme &&
               node.right->kind == TsQueryNode::Kind::lexeme;
      case TsQueryNode::Kind::phrase:
        return left_side;
      default:
        return false;
    }
  }

  Node unary() {
    if (take("!")) {
      Node operand = unary();
      return operand ? make(TsQueryNode::Kind::negation, std::move(operand), nullptr) : nullptr;
    }
    if (take("(")) {
      Node inner = disjunction();
      return inner && take(")") ? std::move(inner) : nullptr;
    }
    skip_spaces(text_, at_);
    auto lexeme = read_quoted(text_, at_);
    if (!lexeme) return nullptr;
    if (at_ < text_.size() && text_[at_] == ':') {
      unsupported_ = true;  // prefix or weight restriction
      return nullptr;
    }
    auto node = std::make_unique<TsQueryNode>();
    node->lexeme = std::move(*lexeme);
    return node;
  }
};

// Positions where a phrase operand ends; only called on the shapes phrase_operand accepts.
std::vector<uint16_t> end_positions(const TsQueryNode& node, const TsVector& vector) {
  switch (node.kind) {
    case TsQueryNode::Kind::lexeme: {
      const TsLexeme* found = vector.find(node.lexeme);
      return found ? found->positions : std::vector<uint16_t>{};
    }
    case TsQueryNode::Kind::disjunction: {
      std::vector<uint16_t> left = end_positions(*node.left, vector);
      std::vector<uint16_t> right = end_positions(*node.right, vector);
      std::vector<uint16_t> both;
      std::set_union(left.begin(), left.end(), right.begin(), right.end(),
                     std::back_inserter(both));
      return both;
    }
    case TsQueryNode::Kind::phrase: {
      std::vector<uint16_t> left = end_positions(*node.left, vector);
      std::vector<uint16_t> out;
      for (uint16_t r : end_positions(*node.right, vector)) {
        if (r >= node.distance && std::binary_search(left.begin(), left.end(), r - node.distance))
          out.push_back(r);
      }
      return out;
    }
    default:
      MAILLON_INVARIANT(false, "phrase operands are checked when parsed");
      return {};
  }
}

bool matches(const TsQueryNode& node, const TsVector& vector) {
  switch (node.kind) {
    case TsQueryNode::Kind::lexeme:
      return vector.find(node.lexeme) != nullptr;
    case TsQueryNode::Kind::negation:
      return !matches(*node.left, vector);
    case TsQueryNode::Kind::conjunction:
      return matches(*node.left, vector) && matches(*node.right, vector);
    case TsQueryNode::Kind::disjunction:
      return matches(*node.left, vector) || matches(*node.right, vector);
    case TsQueryNode::Kind::phrase:
      return !end_positions(node, vector).empty();
  }
  return false;
}

}  // namespace

const TsLexeme* TsVector::find(std::string_view lexeme) const {
  auto it = std::lower_bound(lexemes.begin(), lexemes.end(), lexeme,
                             [](const TsLexeme& l, std::string_view t) { return l.text < t; });
  return it != lexemes.end() && it->text == lexeme ? &*it : nullptr;
}

std::optional<TsVector> parse_tsvector(std::string_view text) {
  TsVector vector;
  std::size_t at = 0;
  for (skip_spaces(text, at); at < text.size(); skip_spaces(text, at)) {
    TsLexeme lexeme;
    auto word = read_quoted(text, at);
    if (!word || !read_positions(text, at, lexeme.positions)) return std::nullopt;
    lexeme.text = std::move(*word);
    vector.lexemes.push_back(std::move(lexeme));
  }
  std::sort(vector.lexemes.begin(), vector.lexemes.end(),
            [](const TsLexeme& a, const TsLexeme& b) { return a.text < b.text; });
  return vector;
}

TsQueryResult parse_tsquery(std::string_view text) {
  return QueryParser(text).parse();
}

bool ts_matches(const TsQuery& query, const TsVector& vector) {
  return query.root && matches(*query.root, vector);
}

}  // namespace maillon
